{-# LANGUAGE TypeFamilies #-}

-- | Sales reports.
module Shop.Reports
  ( Row (..)
  , Total
  , Report
  , render
  , summarise
  , topSellers
  ) where

import Data.List (sortOn)

import Shop.Types

-- | What totalling a value gives (a type family named like the Total row below).
type family Total a
type instance Total Order = Money
type instance Total [a] = [Total a]

data Row = Line String Money | Total Money | Blank
  deriving (Show, Eq)

type Report = [Row]

render :: Report -> String
render = unlines . map row
  where
    row (Line name m) = name ++ ": " ++ show m
    row (Total m) = "total: " ++ show m
    row Blank = ""

summarise :: [Order] -> Report
summarise orders = [ Line (show (orderId o)) (orderTotal o) | o <- orders ]
  ++ [Total (sum (map orderTotal orders))]

topSellers :: Int -> [Order] -> [Item]
topSellers n orders = take n (sortOn itemPrice [ lineItem l | o <- orders, l <- orderLines o ])
